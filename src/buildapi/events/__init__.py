"""Live events: what changed in the farm and in the job requests, noticed by polling the
databases (the masters and the agents change them, not the web) and fanned out to every
connected client of this process."""
