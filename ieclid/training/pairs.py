"""IEFeedback: preference pairs built automatically from gold answers, for DPO.

ADELIE's recipe (utils/DPO in THU-KEG/ADELIE): sample 5 answers per prompt at temperature 1.0
from the SFT model, score each against the gold answer with character-level BLEU (NLTK
`sentence_bleu`, smoothing method3) on the text after `[Answer]: ` (-1 when a sample lacks it),
then keep online pairs (best sample vs worst, gap > 0.1) for 30% of the cap and offline pairs
(gold, scored 1.0, vs worst, gap > 0.1) for the rest, from prompts not used online.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ieclid.backends.schedule import Schedule

ANSWER = "[Answer]: "
MIN_GAP = 0.1
ONLINE_SHARE = 0.3


def bleu(gold: str, sample: str) -> float:
    """ADELIE's score: character BLEU of the answer parts; -1 for a sample without `[Answer]: `
    where the gold has one (it could not be read as an answer at all)."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    if ANSWER in gold:
        if ANSWER not in sample:
            return -1.0
        gold, sample = gold.split(ANSWER, 1)[1], sample.split(ANSWER, 1)[1]
    if not gold.strip() and not sample.strip():
        return 1.0
    if not sample.strip():
        return 0.0
    return float(sentence_bleu([list(gold)], list(sample), smoothing_function=SmoothingFunction().method3))


@dataclass
class Scored:
    """One prompt: its chat before the answer, the gold answer, and the model's scored samples."""

    prompt: list[dict[str, str]]
    gold: str
    samples: list[tuple[str, float]]

    def pair(self, chosen: str, rejected: str) -> dict:
        """A pair in TRL's conversational preference form."""
        return {"prompt": self.prompt, "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}]}


def score_samples(prompt: list[dict[str, str]], gold: str, samples: Iterable[str]) -> Scored:
    return Scored(prompt, gold, [(sample, bleu(gold, sample)) for sample in samples])


def mix_pairs(scored: list[Scored], cap: int, seed: int = 0, online_share: float = ONLINE_SHARE,
              min_gap: float = MIN_GAP) -> tuple[list[dict], int]:
    """Online pairs (best vs worst sample) for `online_share` of `cap`, then offline pairs (gold vs
    worst sample) from the other prompts, each only where the scores differ by more than `min_gap`.
    Returns the pairs, online ones first, and how many are online."""
    order = list(scored)
    random.Random(seed).shuffle(order)
    online_cap = round(cap * online_share)
    pairs, rest = [], []
    for item in order:
        if not item.samples:
            continue
        best = max(item.samples, key=lambda s: s[1])
        worst = min(item.samples, key=lambda s: s[1])
        if len(pairs) < online_cap and best[1] - worst[1] > min_gap:
            pairs.append(item.pair(best[0], worst[0]))
        else:
            rest.append((item, worst))
    online = len(pairs)
    for item, worst in rest:
        if len(pairs) >= cap:
            break
        if 1.0 - worst[1] > min_gap:
            pairs.append(item.pair(item.gold, worst[0]))
    return pairs, online


def sample_all(
    chats: Iterable[list[dict[str, str]]], complete: Callable[[list[dict[str, str]], str], str], n: int,
    in_flight: int = 1,
    schedule: Schedule | None = None,
) -> Iterator[Scored]:
    """Score `n` samples per chat (its last turn is the gold answer) as they are drawn, `in_flight`
    samples worked on at once (decoded together in process, in the order `schedule` keeps);
    `complete(prompt, gold)` samples one answer (the gold only sizes its token budget)."""
    from ieclid.run import extract_each

    draws = ((messages[:-1], messages[-1]["content"]) for messages in chats for _ in range(n))
    answers = extract_each(lambda draw: (draw, complete(*draw)), draws, in_flight, schedule)
    for first in answers:
        (prompt, gold), answer = first
        rest = [next(answers)[1] for _ in range(n - 1)]
        yield score_samples(prompt, gold, [answer, *rest])
