"""Other names for the training sets' entity types, and the coarser type each specific one falls
back to, for `ieclid train data --rename/--merge`.

Why: on label sets it never saw, a model trained on fixed type names answers the generic type it
knows (`person`) where the data set offers a specific one (`writer`, `researcher`). Showing the
same entities under other names (`politician` as `statesman`) makes the answer depend on the
offered names, and leaving a specific type out while its entities fall back to the coarse one
(`politician` gone, politicians answered `person`) teaches when the generic type is right. The
names avoid every type name of the held-out CrossNER domains (AI, literature, music), so the
evaluation on them stays held out.
"""

from __future__ import annotations

RENAMES: dict[str, tuple[str, ...]] = {
    # CrossNER politics and science
    "politician": ("statesman", "lawmaker", "political figure", "legislator", "government leader"),
    "scientist": ("scholar", "academic", "natural scientist", "man or woman of science"),
    "person": ("individual", "human", "people", "personal name"),
    "politicalparty": ("political party", "party", "political movement"),
    "election": ("vote", "electoral contest", "ballot"),
    "event": ("happening", "occurrence", "named event", "incident"),
    "country": ("nation", "state", "sovereign state"),
    "location": ("place", "geographic location", "locale", "site"),
    "organisation": ("organization", "institution", "body", "agency"),
    "misc": ("other", "miscellaneous", "other entity"),
    "university": ("college", "academic institution", "institute of higher education"),
    "discipline": ("subject", "branch of science", "area of study"),
    "enzyme": ("biological catalyst", "enzyme name"),
    "protein": ("protein name", "polypeptide"),
    "chemicalcompound": ("chemical compound", "compound", "molecule", "chemical substance"),
    "chemicalelement": ("element", "chemical element"),
    "astronomicalobject": ("celestial body", "astronomical body", "heavenly body"),
    "academicjournal": ("scientific journal", "journal", "scholarly periodical"),
    "award": ("prize", "honour", "distinction"),
    "theory": ("scientific theory", "law of nature", "principle"),
    # WNUT-17
    "corporation": ("company", "business", "firm"),
    "product": ("merchandise", "commercial product", "goods"),
    "creative-work": ("creative work", "work of art", "title"),
    "group": ("collective", "group of people", "association"),
    # MultiCoNER II
    "artist": ("creative artist", "performer", "entertainer"),
    "athlete": ("sportsperson", "player", "sportsman or sportswoman"),
    "cleric": ("clergy member", "religious leader", "churchman"),
    "sports manager": ("coach", "team manager", "head coach"),
    "human settlement": ("city or town", "settlement", "populated place"),
    "facility": ("building", "structure", "venue"),
    "station": ("railway station", "transit station"),
    "organization": ("institution", "body", "agency"),
    "public company": ("listed company", "publicly traded company"),
    "private company": ("privately held company", "private firm"),
    "car manufacturer": ("automaker", "carmaker"),
    "aerospace manufacturer": ("aircraft maker", "aerospace company"),
    "sports team": ("team", "sports club", "club"),
    "musical group": ("music group", "musical ensemble"),
    "musical work": ("piece of music", "composition"),
    "visual work": ("film or television title", "film", "visual media"),
    "written work": ("literary work", "publication", "written text"),
    "artwork": ("work of visual art", "painting or sculpture"),
    "software": ("computer program", "application", "software package"),
    "vehicle": ("means of transport", "vehicle model"),
    "food": ("dish", "foodstuff"),
    "drink": ("beverage",),
    "clothing": ("garment", "apparel"),
    "disease": ("illness", "medical condition"),
    "symptom": ("clinical sign", "sign of illness"),
    "medication": ("drug", "medicine"),
    "medical procedure": ("treatment", "surgical procedure"),
    "anatomical structure": ("body part", "part of the body"),
}

# A specific type -> the type its entities are when the specific one is not offered.
FALLBACKS: dict[str, str] = {
    "politician": "person",
    "scientist": "person",
    "politicalparty": "organisation",
    "university": "organisation",
    "election": "event",
    "country": "location",
    # MultiCoNER II's hierarchy (its coarse groups as the schema's catch-all types)
    "artist": "person",
    "athlete": "person",
    "cleric": "person",
    "sports manager": "person",
    "human settlement": "location",
    "facility": "location",
    "station": "location",
    "public company": "organization",
    "private company": "organization",
    "car manufacturer": "organization",
    "aerospace manufacturer": "organization",
    "sports team": "organization",
    "musical group": "organization",
    "software": "product",
    "vehicle": "product",
    "food": "product",
    "drink": "product",
    "clothing": "product",
}
