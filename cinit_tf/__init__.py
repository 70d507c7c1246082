"""cinit_tf: populations of the paper's toy models, their completeness signals, and reports."""

__version__ = "0.1.0"
