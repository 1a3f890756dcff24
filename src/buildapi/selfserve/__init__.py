"""The self-serve write pipeline: record a job request, then hand it to the broker."""
