#!/usr/bin/env bash
# Installs and starts the servers the test suite runs against, creates their databases and
# users, and prints the `export` lines that point the tests at them. Idempotent.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
packages=(rabbitmq-server mariadb-server postgresql redis-server chromium nginx openssl
    monitoring-plugins-basic)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
fi

service postgresql start >&2
service mariadb start >&2
service redis-server start >&2 || redis-server --daemonize yes >&2
if ! rabbitmqctl status >/dev/null 2>&1; then
    service rabbitmq-server start >&2 || rabbitmq-server -detached >&2
fi

wait_for() {
    local what=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "$what did not come up" >&2
    return 1
}
wait_for PostgreSQL pg_isready -h 127.0.0.1
wait_for MariaDB mysqladmin ping
wait_for RabbitMQ rabbitmqctl await_startup
wait_for Redis redis-cli ping

su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='buildapi'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE buildapi LOGIN SUPERUSER PASSWORD 'buildapi'\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='buildapi_test'\"" | grep -q 1 \
    || su postgres -c "createdb -O buildapi buildapi_test" >&2

mysql -e "CREATE DATABASE IF NOT EXISTS buildapi_test CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'buildapi'@'localhost' IDENTIFIED BY 'buildapi';
CREATE USER IF NOT EXISTS 'buildapi'@'127.0.0.1' IDENTIFIED BY 'buildapi';
GRANT ALL ON *.* TO 'buildapi'@'localhost';
GRANT ALL ON *.* TO 'buildapi'@'127.0.0.1';
FLUSH PRIVILEGES;" >&2

echo "export TEST_POSTGRESQL_URL=postgresql://buildapi:buildapi@127.0.0.1:5432/buildapi_test"
echo "export TEST_MYSQL_URL=mysql://buildapi:buildapi@127.0.0.1:3306/buildapi_test"
echo "export TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672//"
echo "export TEST_REDIS_URL=redis://127.0.0.1:6379/0"
echo "export TEST_CHROMIUM=$(command -v chromium)"
echo "export TEST_NGINX=$(command -v nginx)"
echo "export TEST_CHECK_HTTP=/usr/lib/nagios/plugins/check_http"
# the packages above hold every server `buildapi cluster up` starts privately
echo "export TEST_CLUSTER=1"
buildbot08=$(.ci/buildbot08.sh)
echo "export TEST_BUILDBOT08=$buildbot08"
echo "export BUILDAPI_REQUIRE_SERVICES=1"
