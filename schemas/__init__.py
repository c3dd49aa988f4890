"""Data contracts: the database tables and their migrations, and the payloads other services send."""
