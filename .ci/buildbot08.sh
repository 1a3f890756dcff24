#!/usr/bin/env bash
# Builds the Python 2.7 virtualenvs of real Buildbot 0.8 masters that the contract tests run
# against, and prints the directory holding them:
#   <dir>/0.8.2    buildbot and buildbot-slave 0.8.2 (the supported master), with MySQLdb
#   <dir>/0.8.14   the last 0.8 release, whose newer schema BuildAPI must refuse
# Idempotent: a working virtualenv is kept. Usage: .ci/buildbot08.sh [dir] (default .buildbot08)
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(realpath -m "${1:-.buildbot08}")
python2=${BUILDBOT08_PYTHON:-}
if [ -z "$python2" ]; then
    prefix=$(pyenv prefix 2.7.18 2>/dev/null || echo "$HOME/.pyenv/versions/2.7.18")
    python2=$prefix/bin/python
fi
if [ ! -x "$python2" ]; then
    echo "buildbot08: no Python 2.7 at $python2 (install 2.7.18 with pyenv or set BUILDBOT08_PYTHON)" >&2
    exit 1
fi

# mysqlclient compiles against the MariaDB client headers.
if ! command -v mysql_config >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev-compat >&2
    else
        echo "buildbot08: mysql_config not found; install libmariadb-dev-compat" >&2
        exit 1
    fi
fi

# Old pip crashes on the extra package indexes a machine-wide pip configuration may add, and
# the last pip and virtualenv that run on Python 2.7 are older than 21 and 20.22.
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore
tools=$root/.tools
if [ ! -d "$tools/virtualenv" ]; then
    "$python2" -m pip install -q --target "$tools" 'virtualenv<20.22' >&2
fi

# virtualenv <version> <pip requirement>...
virtualenv() {
    local target=$root/$1
    shift
    if [ -x "$target/bin/buildbot" ] && "$target/bin/python" -c 'import buildbot, MySQLdb' 2>/dev/null; then
        return
    fi
    rm -rf "$target"
    PYTHONPATH=$tools "$python2" -m virtualenv -q --pip 20.3.4 "$target" >&2
    "$target/bin/pip" install -q --no-python-version-warning "$@" 'mysqlclient==1.4.6' >&2
}

virtualenv 0.8.2 'buildbot==0.8.2' 'buildbot-slave==0.8.2' 'Twisted==10.2.0' 'Jinja2==2.6' \
    'zope.interface==4.7.2'
virtualenv 0.8.14 'buildbot==0.8.14' 'Twisted==14.0.2' 'Jinja2==2.8.1' 'MarkupSafe==1.1.1' \
    'zope.interface==4.7.2' 'SQLAlchemy==0.7.10' 'sqlalchemy-migrate==0.7.2' \
    'python-dateutil==1.5' 'decorator==4.3.2' 'Tempita==0.5.2'
echo "$root"
