"""Clinical knowledge applied to diaries: screening, classification, day counts, scores."""
