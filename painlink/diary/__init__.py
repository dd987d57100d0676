"""The diary: what a person records, validated at the edges."""
