"""Drives the emulator's S3 endpoint with boto3, as a user of Debian's python3-boto3 would.

Takes one JSON argument (endpoint, bucket, prefix, otherPrefix, credentials) and prints one JSON object:
the versions, what header-signed Signature Version 2 operations returned, the S3 error codes of refused ones,
and presigned URLs for the test to fetch (boto3's default signer, SigV2 and SigV4).
"""
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

cfg = json.loads(sys.argv[1])
bucket = cfg["bucket"]
prefix = cfg["prefix"]
creds = cfg["credentials"]


def client(secret=None, **options):
    session = boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name="us-east-1",
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **options)
    return session.client("s3", endpoint_url=cfg["endpoint"], config=config)


def error_code(call):
    try:
        call()
    except ClientError as error:
        return [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]
    return None


default = client()  # boto3's own choice: 1.26 presigns with SigV2
v2 = client(signature_version="s3")  # SigV2 for every request: the Authorization header and URLs
v4 = client(signature_version="s3v4")
out = {"boto3": boto3.__version__, "botocore": botocore.__version__}

# Header-signed SigV2 (Authorization: AWS key:signature), sub-resources included in the signature.
key = prefix + "boto3/hello world+ü.txt"
put = v2.put_object(Bucket=bucket, Key=key, Body=b"hello from boto3", ContentType="text/plain", Metadata={"origin": "boto3"})
got = v2.get_object(Bucket=bucket, Key=key, ResponseContentDisposition="attachment; filename=hello.txt")
out["put"] = {"etag": put["ETag"]}
out["get"] = {
    "body": got["Body"].read().decode(),
    "contentType": got["ContentType"],
    "metadata": got["Metadata"],
    "disposition": got.get("ContentDisposition"),
    "etag": got["ETag"],
}
out["head"] = {"length": v2.head_object(Bucket=bucket, Key=key)["ContentLength"]}
v2.copy_object(Bucket=bucket, Key=prefix + "boto3/copy.txt", CopySource={"Bucket": bucket, "Key": key})
listing = v2.list_objects_v2(Bucket=bucket, Prefix=prefix + "boto3/")
out["list"] = sorted(o["Key"] for o in listing.get("Contents", []))
listing_v1 = v2.list_objects(Bucket=bucket, Prefix=prefix + "boto3/")
out["listV1"] = sorted(o["Key"] for o in listing_v1.get("Contents", []))
out["bucket"] = {
    "head": v2.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"],
    "location": v2.get_bucket_location(Bucket=bucket).get("LocationConstraint"),
    "buckets": [b["Name"] for b in v2.list_buckets()["Buckets"]],
}
out["tags"] = v2.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]

upload = v2.create_multipart_upload(Bucket=bucket, Key=prefix + "boto3/multi.bin")
first = b"a" * (5 * 1024 * 1024)
parts = []
for number, data in ((1, first), (2, b"tail")):
    part = v2.upload_part(Bucket=bucket, Key=prefix + "boto3/multi.bin", UploadId=upload["UploadId"], PartNumber=number, Body=data)
    parts.append({"PartNumber": number, "ETag": part["ETag"]})
listed = v2.list_parts(Bucket=bucket, Key=prefix + "boto3/multi.bin", UploadId=upload["UploadId"])
out["parts"] = [p["Size"] for p in listed["Parts"]]
done = v2.complete_multipart_upload(
    Bucket=bucket, Key=prefix + "boto3/multi.bin", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
)
out["multipart"] = {"etag": done["ETag"], "length": v2.head_object(Bucket=bucket, Key=prefix + "boto3/multi.bin")["ContentLength"]}
deleted = v2.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": prefix + "boto3/copy.txt"}]})
out["deleted"] = [d["Key"] for d in deleted.get("Deleted", [])]

out["refused"] = {
    "otherTask": error_code(lambda: v2.get_object(Bucket=bucket, Key=cfg["otherPrefix"] + "x")),
    "wrongSecret": error_code(lambda: client(secret="x" * 40, signature_version="s3").get_object(Bucket=bucket, Key=key)),
}

presign = lambda c, method, params, expires=600: c.generate_presigned_url(method, Params={"Bucket": bucket, **params}, ExpiresIn=expires)
out["urls"] = {
    "defaultGet": presign(default, "get_object", {"Key": key}),
    "v2Get": presign(v2, "get_object", {"Key": key}),
    "v2GetOverride": presign(v2, "get_object", {"Key": key, "ResponseContentType": "application/x-boto3"}),
    "v2Put": presign(v2, "put_object", {"Key": prefix + "boto3/presigned-put.txt"}),
    "v2Short": presign(v2, "get_object", {"Key": key}, 60),
    "v2OtherTask": presign(v2, "get_object", {"Key": cfg["otherPrefix"] + "x"}),
    "v4Get": presign(v4, "get_object", {"Key": key}),
}
json.dump(out, sys.stdout)
