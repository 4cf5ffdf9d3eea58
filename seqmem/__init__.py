"""seqmem: how recurrent networks remember whether a -1 was seen."""
