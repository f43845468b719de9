"""The 'competent llama-cpp-python script' ieclid is measured against (issue: throughput).

One sentence per call, the demonstrations as chat turns, a JSON-schema grammar through
`response_format`, greedy decoding, llama-cpp-python's own prefix reuse. Mentions are
grounded with str.find. Reads sentences (one per line), writes JSONL records to stdout.

Usage: python benchmarks/baseline_script.py MODEL.gguf SENTENCES.txt LABELS DEMOS.jsonl|- THREADS
                                            [GPU_LAYERS [LORA.gguf]]
"""

import json
import sys

from llama_cpp import Llama

from ieclid.backends.weight_buffers import weights_off_amx  # what a script needs on AMX CPUs too

model, sentences, labels, demos_path, threads = sys.argv[1:6]
gpu_layers = int(sys.argv[6]) if len(sys.argv) > 6 else 0
lora = sys.argv[7] if len(sys.argv) > 7 else None  # an adapter applied at run time, as a user would
labels = labels.split(",")
with weights_off_amx():  # llama.cpp's AMX kernel crashes on some machines: both sides do without
    llm = Llama(model_path=model, n_ctx=4096, n_threads=int(threads), n_threads_batch=int(threads),
                n_gpu_layers=gpu_layers, lora_path=lora, verbose=False)
schema = {
    "type": "object",
    "properties": {"entities": {"type": "array", "items": {
        "type": "object",
        "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": labels}},
        "required": ["text", "label"]}}},
    "required": ["entities"],
}
messages = [{"role": "system", "content": "Extract named entities of these types: " + ", ".join(labels)
             + '. Answer in JSON: {"entities": [{"text": ..., "label": ...}]}.'}]
if demos_path != "-":
    with open(demos_path, encoding="utf-8") as handle:
        for line in handle:
            demo = json.loads(line)
            answer = {"entities": [{"text": e["text"], "label": e["label"]} for e in demo["entities"]]}
            messages += [{"role": "user", "content": demo["text"]},
                         {"role": "assistant", "content": json.dumps(answer)}]
with open(sentences, encoding="utf-8") as handle:
    lines = handle.read().splitlines()
for number, sentence in enumerate(lines, start=1):
    out = llm.create_chat_completion([*messages, {"role": "user", "content": sentence}], temperature=0,
                                     max_tokens=256,
                                     response_format={"type": "json_object", "schema": schema})
    try:
        found = json.loads(out["choices"][0]["message"]["content"]).get("entities", [])
    except (json.JSONDecodeError, AttributeError):
        found = []
    entities, start = [], 0
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item.get("text"):
            pos = sentence.find(item["text"])
            if pos >= 0:
                entities.append({"label": item.get("label"), "start": pos, "end": pos + len(item["text"])})
    usage = out["usage"]
    print(json.dumps({"id": f"{sentences}:{number}", "text": sentence, "entities": entities,
                      "usage": {"prompt_tokens": usage["prompt_tokens"],
                                "completion_tokens": usage["completion_tokens"]}}), flush=True)
