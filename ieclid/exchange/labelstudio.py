"""Label Studio tasks (JSON list): the text in `data`, spans as `labels` results and relations
as `relation` results. `predictions` hold what the model gave (with `model_version` and
scores, before any review); a document finished in `ieclid review` also has an `annotation`
with the reviewed items, credited to the Label Studio user given (`completed_by`: an id or
`{"email": ...}`, the two forms its importer accepts; without one, to the user who imports).
`labeling_config` writes the project's labelling config for the labels the records use.
Imports read annotations first, else predictions."""

from __future__ import annotations

from html import escape

from ieclid.exchange import add_entity, as_the_model_gave, exportable, finish, new_record
from ieclid.label_colours import label_colours

FROM, TO = "label", "text"  # the names in the labelling config: <Labels name="label" toName="text">


def completed_by(user: str) -> int | dict:
    """A Label Studio user, as its importer takes one: a number is a user id, else an email."""
    return int(user) if user.isdigit() else {"email": user}


def _results(record: dict) -> tuple[list[dict], float | None, int]:
    """Label Studio results of a record's exportable items, their mean score, what was left out."""
    items = exportable(record)
    result: list[dict] = []
    scores = []
    for entity in items.entities:
        region = {"id": entity["id"], "from_name": FROM, "to_name": TO, "type": "labels",
                  "value": {"start": entity["start"], "end": entity["end"], "text": entity["text"],
                            "labels": [entity["label"]]}}
        if entity.get("score") is not None:
            region["score"] = entity["score"]
            scores.append(entity["score"])
        result.append(region)
    placed = {e["id"] for e in items.entities}
    between_events = 0  # Label Studio relations join regions; events have none
    for relation in items.relations:
        if relation["head"] in placed and relation["tail"] in placed:
            result.append({"from_id": relation["head"], "to_id": relation["tail"], "type": "relation",
                           "direction": "right", "labels": [relation["label"]]})
        else:
            between_events += 1
    mean = round(sum(scores) / len(scores), 4) if scores else None
    return result, mean, items.skipped + len(items.events) + between_events


def export_record(record: dict, user: str | None = None) -> tuple[dict, int]:
    """One task, and how many reviewed items it could not hold."""
    model_result, mean, _ = _results(as_the_model_gave(record))
    prediction: dict = {"model_version": record.get("model", "ieclid"), "result": model_result}
    if mean is not None:
        prediction["score"] = mean
    task: dict = {"data": {"text": record["text"], "ieclid_id": record["id"]}, "predictions": [prediction]}
    reviewed, _, missing = _results(record)
    review = record.get("review") or {}
    if review.get("done"):
        annotation: dict = {"result": reviewed}
        if user:
            annotation["completed_by"] = completed_by(user)
        task["annotations"] = [annotation]
        task["meta"] = {"reviewed_by": review.get("by"), "reviewed_at": review.get("at")}
    return task, missing


def labeling_config(records: list[dict]) -> str:
    """The labelling config (XML) for the entity and relation labels the records use."""
    colours = label_colours(e["label"] for r in records for e in r.get("entities") or [])
    relations = dict.fromkeys(rel["label"] for r in records for rel in r.get("relations") or [])
    lines = ["<View>"]
    if relations:
        lines.append("  <Relations>")
        lines += [f'    <Relation value="{escape(r)}"/>' for r in relations]
        lines.append("  </Relations>")
    lines.append(f'  <Labels name="{FROM}" toName="{TO}">')
    lines += [f'    <Label value="{escape(label)}" background="{colour}"/>'
              for label, colour in colours.items()]
    lines.append("  </Labels>")
    lines.append(f'  <Text name="{TO}" value="$text"/>')
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def import_task(task: dict, fallback_id: str) -> dict:
    data = task.get("data") or {}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("a task without data.text")
    record = new_record(str(data.get("ieclid_id") or task.get("id") or fallback_id), text, "labelstudio")
    sources = task.get("annotations") or task.get("predictions") or []
    results = sources[0].get("result", []) if sources else []
    ids = {}
    for region in results:
        value = region.get("value") or {}
        if region.get("type") in ("labels", "hypertextlabels") and value.get("labels"):
            extra = {"score": region["score"]} if "score" in region else None
            label = value["labels"][0]
            ids[region.get("id")] = add_entity(record, label, value["start"], value["end"], extra)
    relations: list[dict] = []
    for region in results:
        if region.get("type") == "relation" and {region.get("from_id"), region.get("to_id")} <= ids.keys():
            head, tail = ids[region["from_id"]], ids[region["to_id"]]
            if region.get("direction") == "left":
                head, tail = tail, head
            label = (region.get("labels") or ["related"])[0]
            relations.append({"id": f"R{len(relations) + 1}", "label": label, "head": head, "tail": tail})
    if relations:
        record["relations"] = relations
    return finish(record)
