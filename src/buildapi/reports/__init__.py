"""Reports over the farm's databases: classification of builder names and the report algorithms."""
