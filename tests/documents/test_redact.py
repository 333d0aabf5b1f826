"""Free-text masking: what mask_text hides and what it must leave readable."""

from __future__ import annotations

import json

import pytest

from irsa_nb.redact import mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("DB_PASSWORD=hunter2xyz API_TOKEN: tok-9876543210", "DB_PASSWORD=*** API_TOKEN: ***"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = ***",
        ),
        ('password="p@ss word" next', 'password="***" next'),
        ("--token=abc123 --region x", "--token=*** --region x"),
        ("https://h/?X-Amz-Signature=abcdef&Action=x", "https://h/?X-Amz-Signature=***&Action=x"),
    ],
)
def test_secret_named_assignments_are_masked(text, masked):
    assert mask_text(text) == (masked, masked.count("***"))


@pytest.mark.parametrize(
    "text",
    [
        "InvalidIdentityToken: No OpenIDConnect provider found in your account",
        "failed to read token: open /var/run/secrets/x/token: permission denied",
        "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        "kubectl annotate sa cart eks.amazonaws.com/token-expiration=86400",
        "AWS_REGION=us-west-2 role=arn:aws:iam::111122223333:role/cart",
        "API_KEY=*** PASSWORD=",
        "KEY_ID is set without AWS_SECRET_ACCESS_KEY: boto3 and the AWS CLI fail",
    ],
)
def test_error_text_names_paths_and_settings_stay_readable(text):
    assert mask_text(text) == (text, 0)


def test_masking_json_text_keeps_it_valid_json():
    doc = {"evidence": json.dumps({"annotation": 'password="a b" x-amz-security-token=FwoGZX1'})}
    masked, n = mask_text(json.dumps(doc))
    inner = json.loads(json.loads(masked)["evidence"])
    assert inner == {"annotation": 'password="***" x-amz-security-token=***'} and n == 2


@pytest.mark.parametrize("padding", [0, 500, 5_000])  # short texts are masked once, then cached
def test_texts_of_any_length_are_masked_alike_every_time(padding):
    text = "x" * padding + " DB_PASSWORD=hunter2xyz AKIAIOSFODNN7EXAMPLE"
    expected = ("x" * padding + " DB_PASSWORD=*** ***", 2)
    assert mask_text(text) == expected and mask_text(text) == expected
