"""Data set files (question sets with their answers and programs) used by evaluation."""
