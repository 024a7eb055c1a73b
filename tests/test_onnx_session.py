"""Every graph the engine runs stops its pool's spinning when a run ends (onnx_session.py): a spinning pool of one
model took the core the next model in the same search needed."""

import pytest

from vitrina.config import EncoderSettings
from vitrina.embed.encoder import OnnxMiniLMEncoder

STOP = "session.force_spinning_stop"


def test_the_serving_encoder_stops_spinning_after_a_run():
    encoder = OnnxMiniLMEncoder(EncoderSettings())
    options = encoder._session.get_session_options()
    assert options.get_session_config_entry(STOP) == "1"
    assert encoder.encode(["cordless drill"]).shape == (1, 384)


def test_onnxruntimes_default_stays_available_for_the_benchmark():
    options = OnnxMiniLMEncoder(EncoderSettings(), spin_after_run=True)._session.get_session_options()
    with pytest.raises(Exception, match=STOP):  # no such entry: onnxruntime's own behaviour
        options.get_session_config_entry(STOP)
