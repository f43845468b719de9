"""Weights kept out of llama.cpp's AMX buffers on AMX builds (ieclid/backends/weight_buffers.py),
where its AMX kernel crashed a plain decode here; elsewhere llama.cpp's defaults stand."""

from __future__ import annotations

import llama_cpp
import llama_cpp.llama_cpp as low
import pytest

from ieclid.backends.weight_buffers import amx_build, model_params, weights_off_amx
from ieclid.models import embedded_model_path


def test_extra_buffer_types_are_off_exactly_on_amx_builds():
    assert amx_build() == (b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info())
    assert model_params().use_extra_bufts is not amx_build()
    assert llama_cpp.llama_model_default_params().use_extra_bufts  # llama.cpp's own default


def test_a_llama_loaded_inside_gets_those_params_and_decodes():
    original = low.llama_model_default_params
    with weights_off_amx():
        llm = llama_cpp.Llama(model_path=embedded_model_path(), n_ctx=128, n_threads=2, verbose=False)
    assert low.llama_model_default_params is original
    try:
        assert llm.model_params.use_extra_bufts is not amx_build()
        llm.eval(llm.tokenize(b"Barack Obama met Angela Merkel in Berlin."))  # crashed on AMX buffers
        assert llm.n_tokens > 5
    finally:
        llm.close()


def test_the_defaults_come_back_after_a_failed_load():
    original = low.llama_model_default_params
    with pytest.raises(ValueError), weights_off_amx():
        llama_cpp.Llama(model_path="/nonexistent.gguf", verbose=False)
    assert low.llama_model_default_params is original
