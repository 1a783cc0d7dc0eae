"""Package data: the folk-corpus tune index."""
