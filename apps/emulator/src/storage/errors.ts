// The errors of the S3-compatible endpoint: S3's codes, HTTP statuses and messages, rendered as S3's XML error
// body by s3-routes.ts. Every layer of storage/ throws S3Error; nothing formats an error body by hand.

export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra elements of the error body (e.g. `Key`, `BucketName`) and headers. */
    readonly details: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const s3Errors = {
  accessDenied: (message = "Access Denied") => new S3Error("AccessDenied", 403, message),
  signatureDoesNotMatch: () =>
    new S3Error(
      "SignatureDoesNotMatch",
      403,
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    ),
  invalidAccessKeyId: () => new S3Error("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
  expiredToken: () => new S3Error("ExpiredToken", 400, "The provided token has expired."),
  invalidToken: () => new S3Error("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
  missingToken: () =>
    new S3Error(
      "AccessDenied",
      403,
      "Temporary credentials need their session token: send X-Amz-Security-Token (header or query) with the request.",
    ),
  /** A presigned URL past its expiry (by the emulator's clock). */
  requestExpired: (expiredAt: number, now: number) =>
    new S3Error("AccessDenied", 403, "Request has expired", {
      Expires: new Date(expiredAt).toISOString(),
      ServerTime: new Date(now).toISOString(),
    }),
  missingDate: () => new S3Error("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header"),
  unsupportedAuthorization: (scheme: string) =>
    new S3Error(
      "InvalidArgument",
      400,
      "Unsupported Authorization Type: the emulator accepts AWS Signature Version 4 (AWS4-HMAC-SHA256) and Version 2 (AWS <accessKeyId>:<signature>).",
      { ArgumentName: "Authorization", ArgumentValue: scheme },
    ),
  conflictingAuth: () =>
    new S3Error(
      "InvalidArgument",
      400,
      "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
      { ArgumentName: "Authorization" },
    ),
  authorizationMalformed: (message: string) => new S3Error("AuthorizationHeaderMalformed", 400, message),
  authorizationQueryError: (message: string) => new S3Error("AuthorizationQueryParametersError", 400, message),
  noSuchBucket: (bucket: string) => new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: bucket }),
  noSuchKey: (key: string) => new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      "NoSuchUpload",
      404,
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
      { UploadId: uploadId },
    ),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error("InvalidArgument", 400, message, name ? { ArgumentName: name, ArgumentValue: value ?? "" } : {}),
  invalidRequest: (message: string) => new S3Error("InvalidRequest", 400, message),
  invalidKey: (key: string) =>
    new S3Error("InvalidArgument", 400, "Object keys must not start with '/' or contain a '..' segment.", {
      ArgumentName: "key",
      ArgumentValue: key,
    }),
  keyTooLong: () => new S3Error("KeyTooLongError", 400, "Your key is too long"),
  badDigest: (what = "Content-MD5") => new S3Error("BadDigest", 400, `The ${what} you specified did not match what we received.`),
  invalidDigest: () => new S3Error("InvalidDigest", 400, "The Content-MD5 you specified is not valid."),
  sha256Mismatch: () =>
    new S3Error("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."),
  incompleteBody: () =>
    new S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."),
  malformedXml: () =>
    new S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema"),
  invalidRange: (size: number) =>
    new S3Error(
      "InvalidRange",
      416,
      "The requested range is not satisfiable",
      { ActualObjectSize: String(size) },
      {
        "Content-Range": `bytes */${size}`,
      },
    ),
  invalidPart: () =>
    new S3Error(
      "InvalidPart",
      400,
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number."),
  entityTooSmall: () => new S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size."),
  entityTooLarge: () => new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
  preconditionFailed: (condition: string) =>
    new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", { Condition: condition }),
  notImplemented: (what: string) =>
    new S3Error("NotImplemented", 501, `A header or query you provided implies functionality that is not implemented: ${what}.`),
  methodNotAllowed: (method: string) =>
    new S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.", { Method: method }),
};
