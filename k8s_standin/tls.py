"""A throw-away certificate authority and a server certificate it signs, as a cluster's API server has.

Clients verify the stand-in exactly as they verify a cluster: with the CA certificate (kubeconfig
`certificate-authority-data`). A client without that CA fails verification, which tests rely on.

With client authentication on, the stand-in also asks every client for a certificate and accepts only those its
CA signed (mutual TLS, as a cluster's API server does for kubeconfig `client-certificate-data`); the CA issues
them with `client_certificate()`.
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
    ca_key_pem: str


@dataclass(frozen=True)
class ClientCertificate:
    certificate_pem: str
    key_pem: str

    def __repr__(self):
        return 'ClientCertificate(...)'


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


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
        key_pem=_private_pem(server_key),
        ca_key_pem=_private_pem(ca_key),
    )


def client_certificate(certificates: ServerCertificates, user: str, *, groups=()) -> ClientCertificate:
    """A client certificate for `user` (and `groups`, as Kubernetes reads them: O=) signed by the stand-in's CA."""
    ca = x509.load_pem_x509_certificate(certificates.ca_pem.encode())
    ca_key = serialization.load_pem_private_key(certificates.ca_key_pem.encode(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        + [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    )
    certificate = (
        x509
        .CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ClientCertificate(certificate.public_bytes(serialization.Encoding.PEM).decode(), _private_pem(key))


def server_context(certificates: ServerCertificates, *, client_auth: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_auth:
        context.verify_mode = ssl.CERT_REQUIRED
        # TLS 1.2, so that a refused client learns it within the handshake. Under TLS 1.3 the client finishes
        # its side first and hears of the refusal only when it reads, racing the server's close, so tests would
        # see either the refusal or a dropped connection.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cadata=certificates.ca_pem)
    # load_cert_chain only reads files; the key lives on disk just long enough to be loaded.
    with tempfile.TemporaryDirectory(prefix='k8s-standin-tls-') as directory:
        chain = Path(directory) / 'server.pem'
        chain.touch(mode=0o600)
        chain.write_text(certificates.certificate_pem + certificates.key_pem)
        context.load_cert_chain(chain)
    return context
