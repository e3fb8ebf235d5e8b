"""python -m k8s_standin: serve the Kubernetes API stand-in until SIGTERM or SIGINT.

Prints one line with the URL once it accepts requests; everything else goes to the log (stderr). The token is
never logged.
"""

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from k8s_standin.heartbeats import AgentHeartbeats
from k8s_standin.manifests import default_crd_paths, load_manifests
from k8s_standin.server import StandinServer
from k8s_standin.synthetic import generate, parse_size

logger = logging.getLogger('k8s_standin')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m k8s_standin', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=6443, help='port (default 6443; 0 picks a free one)')
    token = parser.add_mutually_exclusive_group()
    token.add_argument('--token', help='bearer token every request must carry (default: no authentication)')
    token.add_argument('--token-file', type=Path, help='read the bearer token from this file')
    parser.add_argument('--admin-token', help='token of the /_standin/ admin API (default: the API token)')
    parser.add_argument('--tls', action='store_true', help='serve HTTPS with a certificate from a fresh CA')
    parser.add_argument('--ca-out', type=Path, help='with --tls: write the CA certificate (PEM) here')
    parser.add_argument(
        '--crds',
        nargs='+',
        action='extend',
        type=Path,
        metavar='PATH',
        help='CRD manifest files or directories (default: the shipped fixtures)',
    )
    parser.add_argument(
        '--objects',
        nargs='+',
        action='extend',
        type=Path,
        default=[],
        metavar='PATH',
        help='object manifest files or directories to serve',
    )
    parser.add_argument(
        '--synthetic',
        nargs='?',
        const='',
        metavar='SIZES',
        help='also serve a synthetic fabric, e.g. switches=200,connections=4000,vpcs=2000,'
        'attachments=4000 (those are the defaults)',
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the synthetic fabric (default 0)')
    parser.add_argument(
        '--agent-heartbeats',
        type=float,
        default=0,
        metavar='SECONDS',
        help='refresh every Agent heartbeat this often, like live switch agents (default 0: never)',
    )
    parser.add_argument(
        '--log-level',
        default='info',
        choices=['debug', 'info', 'warning', 'error'],
        help='info logs failed requests and admin calls; debug logs every request',
    )
    args = parser.parse_args(argv)
    if args.ca_out and not args.tls:
        parser.error('--ca-out needs --tls')
    if args.synthetic is not None:
        try:
            args.synthetic = parse_size(args.synthetic)
        except ValueError as error:
            parser.error(f'--synthetic: {error}')
    if args.token_file:
        args.token = args.token_file.read_text().strip()
        if not args.token:
            parser.error(f'--token-file {args.token_file} is empty')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format='%(asctime)s %(levelname)s %(name)s: %(message)s'
    )
    objects = load_manifests(args.objects) if args.objects else []
    if args.synthetic is not None:
        objects += generate(args.synthetic, seed=args.seed)
    crds = load_manifests(args.crds or default_crd_paths())
    server = StandinServer(
        crds=crds,
        objects=objects,
        host=args.host,
        port=args.port,
        token=args.token,
        admin_token=args.admin_token,
        tls=args.tls,
        ca_out=args.ca_out,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    counts = server.counts()
    logger.info(
        'serving %d objects of %d kinds from %d CRDs%s',
        sum(counts.values()),
        len(counts),
        len(server.installed()),
        '' if args.token else ' without authentication',
    )
    heartbeats = AgentHeartbeats(server, args.agent_heartbeats).start() if args.agent_heartbeats > 0 else None
    print(f'k8s-standin ready at {server.url}', flush=True)
    try:
        stop.wait()
    finally:
        logger.info('stopping')
        if heartbeats:
            heartbeats.stop()
        server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
