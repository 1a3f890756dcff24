"""A simulated Buildbot 0.8 farm: pushes, schedulers, masters, slaves and their web interface.
It stands in for real masters, so it reaches BuildAPI only through the databases and HTTP."""
