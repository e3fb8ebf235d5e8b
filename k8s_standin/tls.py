"""A throw-away certificate authority and a server certificate it signs, as a cluster's API server has.

Clients verify the stand-in exactly as they verify a cluster: with the CA certificate (kubeconfig
`certificate-authority-data`). A client without that CA fails verification, which tests rely on.
"""

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ('127.0.0.1', 'localhost')
VALIDITY = datetime.timedelta(days=30)


@dataclass(frozen=True)
class ServerCertificates:
    ca_pem: str
    certificate_pem: str
    key_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _subject_alternative_names(hosts) -> list[x509.GeneralName]:
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def make_certificates(hosts=DEFAULT_HOSTS) -> ServerCertificates:
    # EC P-256 keys: generated in milliseconds, where RSA would slow every test that starts a TLS server.
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(minutes=5)  # tolerate a little clock skew between processes
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name('k8s-standin-ca')
    ca = (
        x509
        .CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509
        .CertificateBuilder()
        .subject_name(_name('kube-apiserver'))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names(hosts)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ServerCertificates(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_pem=server.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem=server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def server_context(certificates: ServerCertificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain only reads files; the key lives on disk just long enough to be loaded.
    with tempfile.TemporaryDirectory(prefix='k8s-standin-tls-') as directory:
        chain = Path(directory) / 'server.pem'
        chain.touch(mode=0o600)
        chain.write_text(certificates.certificate_pem + certificates.key_pem)
        context.load_cert_chain(chain)
    return context
