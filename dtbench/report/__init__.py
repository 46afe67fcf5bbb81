"""Tables (and later figures) regenerated from stored results; never edited by hand."""
