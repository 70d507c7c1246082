"""The experiment format: parsing and validating a TOML file, its schema, typed settings, profile merging and the trial plan."""
