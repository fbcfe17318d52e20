"""Names disguised by hand in the scripts the Latin fuzzy rules do not reach: Chinese by sound,
variant, swap, double, pinyin syllable, and people's two-character names by sound
(``policies.han_sound``); loose jamo, Korean slips and digits read aloud in Hangul or
Cyrillic (``policies.hangul``); katakana for a mixed-kana name; long and short Devanagari
vowels; and a later word's first letter in a Latin full name. Each family has look-alikes that
must stay allowed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies import Action, PolicyEngine
from policies.han_sound import HanSoundIndex, reading
from policies.hangul import HangulSlipIndex, compose_jamo, spoken_digits
from policies.scripts import ScriptEntry

DISGUISED = [
    ("homophone", "川晋普在高尔夫球场挥杆", None),  # a character slipped into a two-character name
    ("pair-homophone", "拜灯在白宫草坪上吃冰淇淋", "joe-biden"),  # a person's two characters, one by sound
    ("pinyin", "ha利波特骑着扫帚飞过故宫", "harry-potter"),  # a character written as its syllable
    ("pinyin-spaced", "mi 老 鼠 在 游 乐 园 门 口", "mickey-mouse"),
    ("pinyin-traditional", "鋼鐵ren飛過高雄港", "iron-man"),
    ("yotsugana", "ゴヂラが横浜港から上陸してくる", "godzilla"),  # ヂ typed for ジ
    ("loose-jamo", "ㅅㅗㄴㅎㅡㅇㅁㅣㄴ이 골 넣는 영상", "son-heung-min"),
    ("hangul-aspirated", "피카쥬가 벚꽃길에서 뛰어노는 장면", "pikachu"),
    ("arabic-double", "ميسسي يشرب شاي في مقهى", "lionel-messi"),
    ("homophone", "特郎普站在讲台上挥手", "donald-trump"),
    ("variant", "米老鼡和唐老鸭在游乐园合影", "mickey-mouse"),
    ("swap", "菲加猫在窗台上晒太阳", "garfield"),
    ("double", "蜘蛛蛛侠在楼顶上荡来荡去", "spider-man"),
    ("kana", "ドラエモンが空を飛ぶアニメ", "doraemon"),
    ("hangul-vowel", "피카추가 숲속에서 뛰어노는 장면", "pikachu"),
    ("hangul-tense", "또라에몽이 주머니에서 도구를 꺼낸다", "doraemon"),
    ("hangul-tense-aspirated", "삐까추가 벚꽃길에서 뛰어노는 영상", "pikachu"),  # ㅃ ㄲ for ㅍ ㅋ, one vowel off
    ("held-letter", "mr beeeast giving away a lambo in my driveway", "mrbeast"),
    ("held-letters", "tayyylor swifttt singing on a rooftop", "taylor-swift"),
    ("hangul-digit", "짱9랑 흰둥이가 산책하는 장면", "crayon-shin-chan"),
    ("cyrillic-digit", "пика4у спит на подушке", "pikachu"),
    ("devanagari-vowel", "स्पाईडरमैन छत पर बैठा है", "spider-man"),
    ("latin-later-word", "cristiano bonaldo juggling a ball on the beach", "cristiano-ronaldo"),
]

LOOK_ALIKES = [
    "在钢铁下面躲雨的小猫",  # "under the steel": not 钢铁侠 with a homophone
    "妈妈说明天去公园散步",
    "我们在米老板的店里喝茶",
    "2층 건물 앞에서 4명이 사진을 찍는다",
    "장구를 치는 전통 공연 장면",  # a drum, not 짱구
    "в 4 часа дня кот спит на диване",
    "will smile at the camera on a sunny day",
    "lionel pessimist character study, theatre stage",
    "我们去美西自驾游，拍一段风景视频",  # 美西 (the American West) is a word, not 梅西 by sound
    "拜年视频，一家人包饺子",
    "我用iphone拍了一段小老鼠的视频",
    "ㅋㅋㅋ 너무 웃긴 고양이 영상",  # loose consonants that make no syllable
    "sooo cute, a fluffy kitten chasing a goooal net, hahaha",  # held letters in ordinary words
    "Schifffahrt auf dem Rhein bei Sonnenuntergang",  # German's own triple letter
    "мышка выглядывает из норки в снегу, макро",  # "норки" (burrows), "макро": everyday words
    "मेरा भाई सलमान छत पर पतंग उड़ा रहा है",  # Salman, a common first name
]


@pytest.mark.parametrize(("kind", "prompt", "entity"), DISGUISED, ids=[k for k, _, _ in DISGUISED])
def test_disguised_name_is_found(lexical: PolicyEngine, kind: str, prompt: str, entity: str | None) -> None:
    decision = lexical.check(prompt)
    if entity is None:
        assert decision.allowed, f"{kind}: a two-character name is not read by sound: {decision.hits}"
        return
    assert not decision.allowed, f"{kind}: {prompt}"
    assert entity in {h.entity_id for h in decision.hits}, decision.hits


@pytest.mark.parametrize("prompt", LOOK_ALIKES)
def test_look_alike_stays_allowed(lexical: PolicyEngine, prompt: str) -> None:
    decision = lexical.check(prompt)
    assert decision.action is Action.ALLOW, decision.hits


def test_explain_names_the_disguise(lexical: PolicyEngine) -> None:
    hit = next(h for h in lexical.check("特郎普站在讲台上挥手").hits if h.entity_id == "donald-trump")
    assert hit.method == "fuzzy" and hit.matched == "特郎普"


def _entry(entity: str) -> ScriptEntry:
    return ScriptEntry("rule:test", entity, entity)


def test_han_index_needs_most_characters_and_word_edges() -> None:
    index = HanSoundIndex([(_entry("iron-man"), "钢铁侠")])
    assert [m.entry.entity_id for m in index.find("钢贴侠飞过")] == ["iron-man"]  # one homophone
    assert index.find("钢铁侠飞过") == []  # as written: the word index's match
    assert index.find("刚贴侠飞过") == []  # two characters off in three
    assert index.find("在钢铁下面") == []  # the reading runs into another word


def test_han_index_skips_aliases_and_short_names() -> None:
    alias = ScriptEntry("rule:test", "美国总统", "donald-trump", alias=True)
    index = HanSoundIndex([(alias, "美国总统"), (_entry("donald-trump"), "川普")])
    assert len(index) == 0


def test_han_index_reads_pinyin_only_beside_characters() -> None:
    index = HanSoundIndex([(_entry("harry-potter"), "哈利波特")])
    assert [m.entry.entity_id for m in index.find("ha利波特飞过")] == ["harry-potter"]
    assert index.find("ha ni bo te") == []  # no character of the name left
    assert index.find("hali波特") == []  # two syllables in one run are one unit, not the name's two


def test_two_character_names_by_sound_are_people_only() -> None:
    person = ScriptEntry("rule:likeness.politics", "拜登", "joe-biden")
    character = ScriptEntry("rule:characters.test", "柯南", "detective-conan")
    index = HanSoundIndex([(person, "拜登"), (character, "柯南")])
    assert [m.entry.entity_id for m in index.find("拜灯来了")] == ["joe-biden"]
    assert index.find("科南来了") == []  # characters' two-character names: too short a key


def test_loose_jamo_compose_into_syllables() -> None:
    assert compose_jamo("ㅅㅗㄴㅎㅡㅇㅁㅣㄴ이") == "손흥민이"
    assert compose_jamo("ㄱㅗㅏㅇ") == "광"  # two vowels make one
    assert compose_jamo("ㅋㅋㅋ") == "ㅋㅋㅋ"


@given(st.text(alphabet="ㄱㄴㅅㅇㅎㅏㅗㅡㅣ가 a", max_size=20))
def test_composing_jamo_never_grows_the_text(text: str) -> None:
    assert len(compose_jamo(text)) <= len(text)


def test_hangul_index_keeps_the_consonants() -> None:
    index = HangulSlipIndex([(_entry("son-heung-min"), "손흥민")])
    assert [m.entry.entity_id for m in index.find("쏜흥민이 달린다")] == ["son-heung-min"]
    assert index.find("손흥민이 달린다") == []  # as written
    assert index.find("손흥만두 가게") == []  # runs on into another word


def test_hangul_index_allows_one_syllable_to_slip() -> None:
    index = HangulSlipIndex([(_entry("pikachu"), "피카츄")])
    assert [m.entry.entity_id for m in index.find("피카쥬가 달린다")] == ["pikachu"]  # ㅈ for ㅊ
    assert index.find("비카쥬가 달린다") == []  # two syllables slip
    assert index.find("피카쥬쥬가 달린다") == []  # runs on
    assert [m.entry.entity_id for m in index.find("삐까쥬가 달린다")] == ["pikachu"]  # tense is free
    assert index.find("비가쥬가 달린다") == []  # plain for aspirated twice: two slips


@given(st.text(alphabet="짱구가이пикачу0123456789 abc", max_size=30))
def test_spoken_digits_keeps_offsets(text: str) -> None:
    spoken = spoken_digits(text)
    assert spoken is None or (len(spoken) == len(text) and spoken != text)


@given(st.text(alphabet="特朗普米老鼠钢铁侠abc12", min_size=1, max_size=1))
def test_reading_is_lowercase_and_toneless(ch: str) -> None:
    assert reading(ch) == reading(ch).lower() and not any(c.isdigit() for c in reading(ch) if not ch.isdigit())
