"""Reading inputs, running compiled analyses over chunks, merging and writing results."""
