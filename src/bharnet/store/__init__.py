"""The packed dataset store (:mod:`.packed`: written once by streaming, memory-mapped to read) and
the conversion of each source format into one (:mod:`.convert` runs readers in a process pool;
one module per data set calls it with that set's reader, classes and splits)."""
