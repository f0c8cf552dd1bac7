"""Detect: anomaly detectors fitted on normal traces, their evaluation, ADFA-LD and our
conditions.

- ``base``: the Detector interface (fit, score, stream, save), the vocabulary of syscall ids
  and packed call windows.
- ``stide``: STIDE (Forrest et al. 1996) and t-STIDE (Warrender et al. 1999), the share of
  windows unseen (or rare) in training.
- ``neighbours``: ``FrequencyKnn`` and ``NgramKnn``, cosine distance of tf-idf profiles to the
  nearest normal trace.
- ``ngram``: ``NgramModel``, an n-gram language model, mean negative log-likelihood per call.
- ``cover``: ``SequenceCover`` (Marteau 2019), the least number of pieces of training traces
  that make up the trace, per call.
- ``ensemble``: ``Ensemble``, the mean of its members' calibrated scores.
- ``registry``: every detector by name (``DETECTORS``, ``make_detector``, ``load_detector``).
- ``evaluation``: AUC with its interval and detection at fixed false-alarm rates.
- ``adfa``: the ADFA-LD data set and its benchmark table.
- ``on_conditions``: the detectors on our own experiment's conditions.
"""
