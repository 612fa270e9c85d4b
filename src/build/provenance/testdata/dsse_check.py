#!/usr/bin/python3
"""Independent check of a Lunal provenance DSSE envelope, with Debian's securesystemslib.

Usage: dsse_check.py ENVELOPE.json PUBLIC_KEY.pem
         exit 0 and a JSON summary on stdout when the envelope verifies; 1 with the reason
       dsse_check.py --sign PRIVATE_KEY.pem PAYLOAD_FILE
         an envelope signed by securesystemslib's SSlibSigner (ecdsa-sha2-nistp256), with
         URL-safe base64 and no keyid, for Lunal's verifier to read (the other direction)

Written from the specs, sharing no code with Lunal:
  - DSSE protocol.md "Signature Definition": PAE(type, body) =
    "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
  - DSSE envelope.md: payload / payloadType / signatures[].{keyid, sig}, standard or URL-safe
    base64; unknown members (our signature "extension") ignored
  - the signature is checked twice: by securesystemslib's SSlibKey with scheme
    ecdsa-sha2-nistp256 (Debian 12: python3-securesystemslib 0.26, the library in-toto 1.3.1
    verifies with), and by python3-cryptography directly (ECDSA, SHA-256, DER).
Debian 12's in-toto 1.3.1 / securesystemslib 0.26 have no DSSE envelope type of their own
(in_toto.models.metadata has only the legacy Metablock), so the envelope and the PAE are
decoded here; see docs/formats/provenance.md "Interoperability".
"""
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib import exceptions as sslib_exceptions
from securesystemslib.signer import Signature, SSlibKey


def b64(text):
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(text.encode("ascii"))
        except (binascii.Error, ValueError):
            pass
    raise ValueError("not base64: %r" % text[:20])


def pae(payload_type, body):
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def fail(reason):
    print(json.dumps({"verified": False, "reason": reason}))
    sys.exit(1)


def sign(key_file, payload_file):
    from securesystemslib.signer import SSlibSigner
    private_pem = open(key_file, "rb").read()
    private = serialization.load_pem_private_key(private_pem, password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signer = SSlibSigner({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyid": "00",
                          "keyval": {"public": public_pem.decode(),
                                     "private": private_pem.decode()}})
    payload = open(payload_file, "rb").read()
    payload_type = "application/vnd.in-toto+json"
    sig = signer.sign(pae(payload_type, payload))
    print(json.dumps({
        "payload": base64.urlsafe_b64encode(payload).decode(),
        "payloadType": payload_type,
        "signatures": [{"sig": base64.urlsafe_b64encode(bytes.fromhex(sig.signature)).decode()}],
    }))


def main():
    if sys.argv[1] == "--sign":
        return sign(sys.argv[2], sys.argv[3])
    envelope = json.load(open(sys.argv[1], "rb"))
    pem = open(sys.argv[2], "rb").read()
    payload = b64(envelope["payload"])
    payload_type = envelope["payloadType"]
    message = pae(payload_type, payload)

    spki = serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyid = "sha256:" + hashlib.sha256(spki).hexdigest()
    # securesystemslib 0.26 accepts only hex keyids (KEYID_SCHEMA); Lunal's DSSE keyid is
    # "sha256:<hex>", so securesystemslib is given the bare hex of the same digest.
    sslib_keyid = hashlib.sha256(spki).hexdigest()
    sslib_key = SSlibKey(sslib_keyid, "ecdsa", "ecdsa-sha2-nistp256", {"public": pem.decode()})
    crypto_key = serialization.load_pem_public_key(pem)

    verified = False
    extensions = []
    for entry in envelope["signatures"]:
        # Signature.from_dict keeps what it does not know (our "extension") aside, as DSSE asks.
        sig = Signature.from_dict(dict(entry))
        extensions += [k for k in sig.unrecognized_fields]
        raw = b64(sig.signature)
        try:
            sslib_key.verify_signature(Signature(sslib_keyid, raw.hex()), message)
            sslib_ok = True
        except (sslib_exceptions.UnverifiedSignatureError, sslib_exceptions.VerificationError):
            sslib_ok = False
        try:
            crypto_key.verify(raw, message, ec.ECDSA(hashes.SHA256()))
            crypto_ok = True
        except InvalidSignature:
            crypto_ok = False
        if sslib_ok != crypto_ok:
            fail("securesystemslib and cryptography disagree")
        if sslib_ok:
            verified = True
            if sig.keyid not in ("", keyid):
                fail("keyid %s is not the key's %s" % (sig.keyid, keyid))
    if not verified:
        fail("signature")
    if payload_type != "application/vnd.in-toto+json":
        fail("payloadType")
    statement = json.loads(payload)
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        fail("_type")
    if statement.get("predicateType") != "https://slsa.dev/provenance/v1":
        fail("predicateType")
    print(json.dumps({
        "verified": True,
        "keyid": keyid,
        "subjects": {s["name"]: s["digest"]["sha256"] for s in statement["subject"]},
        "buildType": statement["predicate"]["buildDefinition"]["buildType"],
        "builder": statement["predicate"]["runDetails"]["builder"]["id"],
        "unrecognized_signature_fields": sorted(set(extensions)),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
