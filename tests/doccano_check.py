"""Read a doccano JSONL file with doccano's own import pipeline (its JSONL parser, reader and
label makers, which drop what they cannot parse) and print how many rows and labels it made.
Runs in a Python that has doccano (tests/test_exchange.py: IECLID_DOCCANO_PYTHON).

Usage: python tests/doccano_check.py FILE.jsonl sequence|relation
"""

import json
import os
import sys

import backend

sys.path.insert(0, os.path.dirname(backend.__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
import django

django.setup()
import pandas as pd  # noqa: E402
from data_import.pipeline.label import RelationLabel, SpanLabel  # noqa: E402
from data_import.pipeline.makers import LabelMaker  # noqa: E402
from data_import.pipeline.parsers import JSONLParser  # noqa: E402
from data_import.pipeline.readers import FileName, Reader  # noqa: E402

path, layout = sys.argv[1], sys.argv[2]
parser = JSONLParser()
df = pd.DataFrame(list(Reader([FileName(path, "x", "x")], parser)))
columns = {"sequence": [("label", SpanLabel)],
           "relation": [("entities", SpanLabel), ("relations", RelationLabel)]}[layout]
out = {"rows": len(df), "parse_errors": len(parser.errors)}
for column, cls in columns:
    maker = LabelMaker(column=column, label_class=cls)
    labels = maker.make(df)
    out[column] = len(labels)
    out[column + "_errors"] = len(maker.errors)
print(json.dumps(out))
