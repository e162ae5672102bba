#!/usr/bin/env python3
"""An independent client for interop tests: Python's own protobuf/grpc/websockets
stacks, speaking to a clipflow gateway the way Jina 3's Python client does.

It compiles clipflow's proto files with protoc at run time, then prints one JSON
object with what it saw. The TypeScript test asserts on that JSON.

usage: jina_client.py PROTO_DIR (grpc|http|ws) ADDRESS
"""
import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid

PROTO_DIR, MODE, ADDRESS = sys.argv[1], sys.argv[2], sys.argv[3]

out_dir = tempfile.mkdtemp()
subprocess.run(['protoc', f'-I{PROTO_DIR}', '-I/usr/include', f'--python_out={out_dir}',
                'docarray.proto', 'jina.proto'], check=True)
sys.path.insert(0, out_dir)
docarray_pb2 = importlib.import_module('docarray_pb2')
jina_pb2 = importlib.import_module('jina_pb2')
from google.protobuf import json_format, empty_pb2, struct_pb2  # noqa: E402

TEXTS = ['a photo of a cat', 'hello world', 'zebra crossing', 'CLIP!']


def make_request(endpoint, texts):
    req = jina_pb2.DataRequestProto()
    req.header.request_id = uuid.uuid4().hex
    req.header.exec_endpoint = endpoint
    req.parameters.update({'limit': 3, 'nested': {'k': [1, 'two']}})
    for t in texts:
        d = req.data.docs.docs.add()
        d.id = uuid.uuid4().hex
        d.text = t
        d.tags.update({'__created_by_CAS__': True})
    return req


def doc_result(d):
    emb = None
    if d.HasField('embedding'):
        dense = d.embedding.dense
        assert dense.dtype == '<f4', dense.dtype
        assert d.embedding.cls_name == 'numpy', d.embedding.cls_name
        import struct
        emb = list(struct.unpack('<%df' % (len(dense.buffer) // 4), dense.buffer))
        assert list(dense.shape) == [len(emb)], dense.shape
    return {'id': d.id, 'text': d.text, 'embedding': emb, 'tags': json_format.MessageToDict(d.tags)}


def response_result(req, resp):
    return {
        'sent_ids': [d.id for d in req.data.docs.docs],
        'request_id': resp.header.request_id,
        'sent_request_id': req.header.request_id,
        'exec_endpoint': resp.header.exec_endpoint,
        'status': resp.header.status.code,
        'description': resp.header.status.description,
        'executor': resp.header.status.exception.executor,
        'routes': [r.executor for r in resp.routes],
        'route_ms': [r.end_time.ToMilliseconds() - r.start_time.ToMilliseconds() for r in resp.routes],
        'parameters': json_format.MessageToDict(resp.parameters),
        'docs': [doc_result(d) for d in resp.data.docs.docs],
    }


def run_grpc():
    import grpc
    from grpc_health_check_shim import check_health
    channel = grpc.insecure_channel(ADDRESS, options=[
        ('grpc.max_send_message_length', -1), ('grpc.max_receive_message_length', -1),
        ('grpc.keepalive_time_ms', 10000)])
    ser = lambda m: m.SerializeToString()
    call = channel.stream_stream('/jina.JinaRPC/Call', request_serializer=ser,
                                 response_deserializer=jina_pb2.DataRequestProto.FromString)
    reqs = [make_request('/encode', TEXTS[i:i + 2]) for i in range(0, len(TEXTS), 2)]
    reqs.append(make_request('/fail', ['x']))
    by_id = {r.header.request_id: r for r in reqs}
    stream = [response_result(by_id[resp.header.request_id], resp) for resp in call(iter(reqs), timeout=30)]
    single = channel.unary_unary('/jina.JinaSingleDataRequestRPC/process_single_data', request_serializer=ser,
                                 response_deserializer=jina_pb2.DataRequestProto.FromString)
    one = make_request('/encode', ['single'])
    single_res = response_result(one, single(one, timeout=30))
    disc = channel.unary_unary('/jina.JinaDiscoverEndpointsRPC/endpoint_discovery', request_serializer=ser,
                               response_deserializer=jina_pb2.EndpointsProto.FromString)(empty_pb2.Empty(), timeout=10)
    dry = channel.unary_unary('/jina.JinaGatewayDryRunRPC/dry_run', request_serializer=ser,
                              response_deserializer=jina_pb2.StatusProto.FromString)(empty_pb2.Empty(), timeout=10)
    info = channel.unary_unary('/jina.JinaInfoRPC/_status', request_serializer=ser,
                               response_deserializer=jina_pb2.JinaInfoProto.FromString)(empty_pb2.Empty(), timeout=10)
    return {'stream': stream, 'single': single_res, 'endpoints': list(disc.endpoints),
            'dry_run': dry.code, 'info': dict(info.jina), 'health': check_health(channel)}


def run_http():
    results = []
    for endpoint, texts in (('/encode', TEXTS), ('/fail', ['x'])):
        req = make_request(endpoint, texts)
        body = json_format.MessageToDict(req, preserving_proto_field_name=True)
        # Jina's HTTP client: docs as docarray dicts (explicit nulls), exec_endpoint at top level.
        body['data'] = [dict(id=d.id, text=d.text, tags={'__created_by_CAS__': True}, blob=None, tensor=None,
                             embedding=None, uri=None, mime_type=None, parent_id=None, granularity=None,
                             adjacency=None, weight=None, modality=None, offset=None, location=None,
                             scores=None, evaluations=None, chunks=None, matches=None)
                        for d in req.data.docs.docs]
        body['exec_endpoint'] = endpoint
        http_req = urllib.request.Request(ADDRESS + '/post', data=json.dumps(body).encode(),
                                          headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(http_req, timeout=30) as r:
                status, payload = r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            status, payload = e.code, json.loads(e.read())
        docs = payload.pop('data')
        resp = jina_pb2.DataRequestProto()
        json_format.ParseDict(payload, resp)  # strict, as Jina's client: unknown keys raise
        for dd in docs or []:
            d = resp.data.docs.docs.add()
            d.id = dd['id']
            if dd.get('text') is not None:
                d.text = dd['text']
            if dd.get('embedding') is not None:
                import struct
                d.embedding.dense.buffer = struct.pack('<%df' % len(dd['embedding']), *dd['embedding'])
                d.embedding.dense.shape.append(len(dd['embedding']))
                d.embedding.dense.dtype = '<f4'
                d.embedding.cls_name = 'numpy'
            if dd.get('tags'):
                d.tags.update(dd['tags'])
        res = response_result(req, resp)
        res['http_status'] = status
        results.append(res)
    with urllib.request.urlopen(ADDRESS + '/dry_run', timeout=10) as r:
        dry = json.loads(r.read())
    return {'posts': results, 'dry_run': dry['code']}


async def run_ws():
    import websockets
    async with websockets.connect(ADDRESS, subprotocols=['bytes'], max_size=None) as ws:
        await ws.send(b'')  # Jina's dry run
        status = jina_pb2.StatusProto.FromString(await ws.recv())
        reqs = [make_request('/encode', [t]) for t in TEXTS] + [make_request('/fail', ['x'])]
        by_id = {r.header.request_id: r for r in reqs}
        for r in reqs:
            await ws.send(r.SerializeToString())
        await ws.send(bytes(True))  # end of stream: b'\x00'
        results = []
        try:
            while True:
                resp = jina_pb2.DataRequestProto.FromString(await ws.recv())
                results.append(response_result(by_id[resp.header.request_id], resp))
        except websockets.exceptions.ConnectionClosedOK:
            pass
        return {'dry_run': status.code, 'responses': results, 'close_code': ws.close_code}


if MODE == 'grpc':
    result = run_grpc()
elif MODE == 'http':
    result = run_http()
else:
    result = asyncio.run(run_ws())
print(json.dumps(result))
