"""Data: from audio files to batches, and the datasets the course reads and writes.

The modules, bottom to top (each imports only those above it in this list, and
:mod:`course_lib.audio_io` / :mod:`course_lib.features` below the package):

==========================  ==================================================================
module                      what it holds
==========================  ==================================================================
``data.splits``             stratified, grouped and ESC-50 cross-validation splits
``data.synthetic``          seeded synthetic sound events with onset / offset / SNR metadata
``data.download``           SHA-256-checked, atomic downloads, safe extraction; ``COURSE_DATA_DIR``
``data.decode``             files → waveforms (mono, fixed length, resampled), in threads
``data.cache``              files → features, once, in batches; the on-disk :class:`FeatureCache`
``data.loader``             :class:`FeatureDataset` (a batch per call) and the seeded loader
``data.base``               :class:`AudioFileDataset`: labelled files, checked; bad files reported
``data.esc50``              ESC-50: the metadata reader, the dataset and the synthetic writer
``data.gtzan``              GTZAN: the filtered split, the dataset and the synthetic writer
``data.folder``             a folder of class sub-folders: scan, dataset and writer
==========================  ==================================================================

Import from the module (``from course_lib.data.cache import cached_features``); this package
file imports nothing, so ``import course_lib.data.loader`` stays light.
"""
