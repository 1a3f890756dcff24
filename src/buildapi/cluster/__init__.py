"""`buildapi cluster`: the production topology started on one machine, on loopback, for
development and tests: private servers in a state directory, BuildAPI's processes over them,
each recorded by process id so that `down` stops exactly what `up` started."""
