"""Data reduction: DL3 observations → spectrum and map datasets."""
