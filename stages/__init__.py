"""Thin DVC stage entry points: parse args, load one params section, call seqmem, write outputs."""
