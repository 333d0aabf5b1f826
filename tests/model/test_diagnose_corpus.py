"""irsa_nb.diagnose against error messages worded as the SDKs, runtimes and tools word them.

The cases live in ``diagnose_corpus.yaml`` (one table: text, the cause expected first, and
the source file or public thread the wording comes from). Besides the table, this module
checks the catalogue's own rules: every entry from E22 on is exercised by the corpus and
has Chinese texts, and the ranking rule (specificity, then evidence) holds on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import irsa_nb
from irsa_nb.error_catalogue import (
    SPECIFICITY,
    catalogue,
    evidence,
    normalise,
    principal_kind,
    read,
)

CORPUS = yaml.safe_load((Path(__file__).parent / "diagnose_corpus.yaml").read_text("utf-8"))
CASES = CORPUS["cases"]


def _entry_ids(df):
    return list(dict.fromkeys(df.error.str.split(" ").str[0]))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case_ranks_its_cause_first(case):
    df = irsa_nb.diagnose(case["text"])
    assert df.attrs["recognised"], case["id"]
    assert df.attrs["cause_ids"][0] == case["top"], df.attrs["cause_ids"]
    for entry in case.get("also", ()):
        assert entry in _entry_ids(df), _entry_ids(df)
    if "confidence" in case:
        assert df.attrs["confidence"][0] == case["confidence"]
    for key, value in (case.get("fields") or {}).items():
        assert df.attrs["fields"].get(key) == value, df.attrs["fields"]


def test_corpus_is_well_formed_and_cites_a_public_source():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    known = {f"{e.id}/{c.key}" for e in catalogue().entries for c in e.causes}
    for case in CASES:
        assert case["top"] in known, case["id"]
        assert case["source"].startswith("https://"), case["id"]
        assert "/work/" not in case["source"] and "shared" not in case["source"]


def _new_entries():
    numbered = ((e, re.fullmatch(r"E(\d+)[A-Z]?", e.id)) for e in catalogue().entries)
    return [e for e, m in numbered if m and int(m[1]) >= 22]


def test_every_new_entry_is_exercised_by_the_corpus():
    seen = {c["top"].split("/")[0] for c in CASES} | {a for c in CASES for a in c.get("also", ())}
    assert {e.id for e in _new_entries()} <= seen


def test_new_entries_and_causes_have_chinese_texts():
    for entry in _new_entries():
        assert entry.title_zh, entry.id
        for cause in entry.causes:
            assert cause.zh and all(cause.zh), (entry.id, cause.key)
    df = irsa_nb.diagnose("MissingRegion: could not find region configuration", lang="zh")
    assert df.loc[0, "error"] == "E24 SDK 找不到区域"
    assert "botocore 读取 AWS_DEFAULT_REGION" in df.loc[0, "cause"]
    assert "AWS_REGION" in df.loc[0, "fix"]
    # Entries without Chinese texts stay in English rather than going blank.
    old = irsa_nb.diagnose(CASES[-1]["text"], lang="zh")
    assert old.loc[0, "cause"] and old.loc[0, "error"].startswith("E8 ")


def test_cause_keys_are_unique_within_an_entry():
    for entry in catalogue().entries:
        keys = [c.key for c in entry.causes]
        assert len(keys) == len(set(keys)), entry.id


# --- the ranking rule, on its own ----------------------------------------------------------


def test_a_specific_pattern_outranks_a_generic_one_wherever_it_appears():
    # The Java chain names its real cause in its last line; E15 (no credentials) matches
    # first in the text but is a symptom, E21 (the sts module) a cause.
    text = next(c["text"] for c in CASES if c["id"] == "java-v2-chain-ending-in-sts-module")
    entries = read(text).entries
    assert [e.id for e in entries][:2] == ["E21", "E15"]
    assert entries[0].specificity == SPECIFICITY["cause"] > entries[1].specificity
    assert text.index("Unable to load credentials") < text.index("'sts' service module")


def test_fallbacks_only_without_anything_more_specific():
    assert [e.id for e in read("WebIdentityErr: something new").entries] == ["F3"]
    text = "WebIdentityErr: failed to retrieve credentials caused by: Region is missing"
    assert [e.id for e in read(text).entries] == ["E24"]


def test_evidence_of_partition_and_endpoint():
    assert evidence(normalise("role arn:aws-cn:iam::111122223333:role/x")) == {
        "china",
        "partition",
    }
    assert "partition" in evidence("arn:aws-us-gov:iam::111122223333:role/x")
    assert evidence("Post https://sts.amazonaws.com/ from eu-west-1") == {
        "commercial",
        "global-endpoint",
    }
    assert evidence("The security token included in the request is invalid") == frozenset()
    # a China region in an aws-partition host name is a host that does not exist
    assert {"china", "partition"} <= evidence("lookup sts.cn-north-1.amazonaws.com: no such host")


@pytest.mark.parametrize(
    ("principal", "kind"),
    [
        ("arn:aws:sts::111122223333:assumed-role/NodeRole/i-0123456789abcdef0", "node"),
        ("arn:aws:sts::123:assumed-role/NodeRole/i-xxxx", "node"),
        ("arn:aws:sts::xxxxxxxxxxxx:assumed-role/NodeRole/i-0xxxx…", "node"),
        ("arn:aws:sts::111122223333:assumed-role/app/botocore-session-1700000000", "web-identity"),
        ("arn:aws:sts::111122223333:assumed-role/a/aws-sdk-js-session-1700000000", "web-identity"),
        ("arn:aws:sts::111122223333:assumed-role/app/1700000000123456789", "web-identity"),
        (
            "arn:aws:sts::111122223333:assumed-role/app/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "web-identity",
        ),
        ("arn:aws:sts::111122223333:assumed-role/gha/GitHubActions", "role"),
        ("arn:aws:sts::111122223333:assumed-role/app/i-am-a-session", "role"),
        ("arn:aws:sts::111122223333:assumed-role/NodeRole/i-[REDACTED]", "node"),
        ("arn:aws:sts::111122223333:assumed-role/NodeRole/i-redacted", "node"),
        ("arn:aws:sts::111122223333:assumed-role/NodeRole/<instance-id>", "node"),
        ("arn:aws:iam::111122223333:user/ci", "user"),
        ("arn:aws:iam::111122223333:root", "root"),
    ],
)
def test_principal_kinds(principal, kind):
    assert principal_kind(principal) == kind


def test_a_redacted_account_is_not_used_as_an_account():
    fields = read("User: arn:aws:sts::123:assumed-role/NodeRole/i-xxxx is not authorized").fields
    assert "account" not in fields and "role_arn" not in fields
    assert fields["role"] == "NodeRole"


def test_unless_drops_the_net_sdk_entry_when_the_token_file_or_assembly_is_the_problem():
    frame = " at Amazon.Runtime.AssumeRoleWithWebIdentityCredentials.GenerateNewCredentials()"
    assert [e.id for e in read("System.MissingMethodException: x" + frame).entries] == ["E26"]
    token = "A token could not be loaded from the WebIdentityTokenFile."
    assert [e.id for e in read("fail: " + frame + " " + token).entries] == ["E27"]
    assembly = "Assembly AWSSDK.SecurityToken could not be found or loaded."
    assert [e.id for e in read(assembly + frame).entries] == ["E25"]


def test_the_catalogue_refuses_unknown_rule_names():
    from irsa_nb import error_catalogue

    base = {"id": "X1", "title": "t", "patterns": ["x"], "specificity": "error"}
    cause = {"key": "k", "cause": "c", "fix": "f"}
    with pytest.raises(ValueError, match="unknown evidence"):
        error_catalogue._entry({**base, "causes": [{**cause, "raised_by": ["chinaa"]}]})
    with pytest.raises(ValueError, match="unknown principal"):
        error_catalogue._entry({**base, "causes": [cause], "principals": ["robot"]})
    with pytest.raises(KeyError):
        error_catalogue._entry({**base, "specificity": "very", "causes": [cause]})
