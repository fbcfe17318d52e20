"""Style boilerplate: the comma-separated tails of text-to-image prompts that say nothing about content.

Prompts written for diffusion models often end in a run of quality, render and artist tags
("highly detailed, trending on artstation, octane render, 8k, art by greg rutkowski and wlop").
Those segments carry no policy meaning, but they are half the tokens of a long prompt and the
semantic model's cost grows with length. ``content_text`` drops a segment only when **every** word
in it is in the style vocabulary below, which holds no content words (no people, objects, acts or
body parts), so nothing can be hidden inside a dropped segment. The lexical stages always see the
whole prompt; only the embedding input is shortened.
"""

from __future__ import annotations

import re

__all__ = ["content_text", "STYLE_WORDS"]

_QUALITY = """
highly detailed detail details hyperdetailed hyper ultra extremely very super insanely intricate
intricately elegant beautiful stunning gorgeous epic amazing sharp focus smooth crisp clean
masterpiece best quality high resolution res hi hd hdr uhd fhd k
award winning awarded trending featured popular on at artstation cgsociety deviantart behance
pixiv unsplash flickr 500px polycount zbrush central sketchfab
octane render rendered rendering renders unreal engine cinema4d c4d vray v-ray redshift
keyshot substance painter cryengine 3d cgi cg vfx
concept art artwork artworks digital painting paintings painted illustration illustrations
illustrated matte watercolor watercolour acrylic gouache sketch sketches drawing
lineart line cel shaded shading pastel airbrush
cinematic lighting light lights lit volumetric dramatic studio soft rim global illumination ray
raytracing raytraced traced tracing ambient occlusion rays golden hour backlit backlighting
bokeh depth of field dof lens flare wide angle close up closeup portrait dslr canon nikon sony leica hasselblad kodak portra fujifilm film grain analog
color colors colour colours colorful colourful vibrant vivid saturated muted palette grading
symmetrical symmetry centered composition rule thirds ratio
realistic photorealistic hyperrealistic hyperrealism photorealism realism lifelike
photography photo photograph photographic professional editorial poster
style styled aesthetic aesthetics mood moody atmospheric atmosphere
highres absurdres lowres wallpaper official highest original sharpness contrast perfect natural
accent delicate glow glowing shiny caustic caustics
"""

# Artists most often appended to diffusion prompts. Names only: a segment made of them (with
# "by", "and", "art", "style of") is an attribution, not content.
_ARTISTS = """
greg rutkowski artgerm wlop alphonse mucha ruan jia ross tran stanley lau loish rossdraws
sakimichan ilya kuvshinov makoto shinkai james jean thomas kinkade craig mullins simon stalenhag
stålenhag zdzislaw beksinski hr giger moebius frank frazetta boris vallejo william adolphe
bouguereau peter mohrbacher tom bagshaw charlie bowater karol bak krenz cushart magali
villeneuve wadim kashin dan mumford marc simonetti raymond swanland rhads edward hopper norman
rockwell gustav klimt vincent van gogh salvador dali rembrandt caravaggio jakub rozalski
john singer sargent j c leyendecker jc leyendecker andreas rocha jordan grimmer tyler edlin
sparth syd mead ralph mcquarrie jean giraud cory loftis jesper ejsing anato finnstark
gregory crewdson francis artem demura guweiz fenghua zhong yoji shinkawa ayami kojima
yoshitaka amano kentaro miura murata mandy jurgens lois van baarle brom gerald
junji ito kim jung gi ashley wood greg tocchini feng zhu sergey kolesov
michael whelan albert bierstadt thomas cole ivan aivazovsky caspar david friedrich
john howe alan lee ted nasmith eddie mendoza aleksi briclot yuumei atey ghailan ismail inceoglu
"""

_CONNECTORS = "by and the of in a an with art style inspired artist artists from"

STYLE_WORDS = frozenset((_QUALITY + _ARTISTS + _CONNECTORS).split())

# Diffusion front-end syntax: <lora:name:0.6> loads a model add-on, (word:1.3) and ((word)) weight
# a word. Neither is content; the brackets also separate tags like commas do.
_LOADER_TAG = re.compile(
    r"<\s*(?:lora|lyco|locon|loha|hypernet|hypernetwork|embedding|ti)\s*:([^<>:]{0,200})(?::[^<>]{0,40})?>"
)
_WEIGHT = re.compile(r":\s*-?\d+(?:\.\d+)?(?=\s*[)\]])")  # only inside brackets: "age: 9" is content
_SEGMENT_SPLIT = re.compile(r"[,;|()\[\]{}]+")
_WORD = re.compile(r"[^\W_]+(?:[.'/-][^\W_]+)*")
_NUMERIC = re.compile(r"f/\d+(?:\.\d+)?|\d+(?:\.\d+)?(?:k|p|mm|px|fps)")  # 8k, 1080p, 35mm, f/1.8; not "12"


def _style_only(segment: str) -> bool:
    words = [part for word in _WORD.findall(segment) for part in word.split("-")]
    # Resolutions and camera settings count as style, bare numbers (an age, a count) do not;
    # an empty segment is dropped.
    return all(w in STYLE_WORDS or _NUMERIC.fullmatch(w) for w in words)


def content_text(canonical: str) -> str:
    """``canonical`` (already normalised, lower case) without its style-only segments; the text
    itself when nothing is left, so a prompt that is all style still has something to embed."""
    # A loader tag's name may be a person or a character ("<lora:some_actor_v2:0.8>"): keep it.
    text = _WEIGHT.sub("", _LOADER_TAG.sub(lambda m: ", " + m.group(1).replace("_", " ") + ",", canonical))
    segments = _SEGMENT_SPLIT.split(text)
    if len(segments) == 1:
        return canonical
    # Repeated tags ("1girl, ..., 1girl") add length, not meaning.
    kept = dict.fromkeys(s.strip() for s in segments if s.strip() and not _style_only(s))
    return ", ".join(kept) if kept else canonical
