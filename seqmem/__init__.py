"""seqmem: how recurrent networks remember whether a -1 was seen."""

from seqmem.core import numerics

numerics.pin()  # before torch computes anything: every stage, seqmem-probe and library user gets the same bits
