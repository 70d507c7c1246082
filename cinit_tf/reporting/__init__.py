"""A report section's records, the helpers every section writes itself with, the report generator, its comparison and the index."""
