"""Label Studio tasks (JSON list): the text in `data`, spans as `labels` results and relations
as `relation` results, with `model_version` and scores; reviewed documents (see `ieclid
review`) also carry an annotation. Imports read annotations first, else predictions."""

from __future__ import annotations

from ieclid.exchange import add_entity, exportable, finish, new_record

FROM, TO = "label", "text"  # the names in the usual labelling config: <Labels name="label" toName="text">


def export_record(record: dict) -> tuple[dict, int]:
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
    prediction = {"model_version": record.get("model", "ieclid"), "result": result}
    if scores:
        prediction["score"] = round(sum(scores) / len(scores), 4)
    task = {"data": {"text": record["text"], "ieclid_id": record["id"]}, "predictions": [prediction]}
    if (record.get("review") or {}).get("done"):
        task["annotations"] = [{"result": result, "completed_by": record["review"].get("by")}]
    return task, items.skipped + len(items.events) + between_events


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
