"""Statistics and the verdict rules: estimates, intervals and tests; claims as records judged against the paper's size."""
