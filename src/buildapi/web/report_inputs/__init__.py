"""Per report family: the dependencies that parse a report's query, and the loaders that read
its data. web/routes/reports.py pairs them with the report's page in one table."""
