// A loaded contract: the bundled OpenAPI document's operations (operations.ts), a path matcher over them and a
// lazily compiled validator, behind one interface.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { contractPath as defaultContractPath } from "@htcemu/openapi";
import { API_PREFIX, PathMatcher } from "./matcher.js";
import { extractOperations, type OpenApiDocument, type Operation, type OperationIndex } from "./operations.js";
import { ContractValidator, type RequestInput, type ResponseTarget, type ResponseValidationOptions, type Violation } from "./validate.js";

export interface Contract extends OperationIndex {
  readonly operations: readonly Operation[];
  readonly operationIds: readonly string[];
  /** The operation with this id; throws when there is none. */
  getOperation(operationId: string): Operation;
  /** Whether a path is the contract's business: it matches a template or lies under the prefix. */
  covers(path: string): boolean;
  validateRequest(request: RequestInput): Violation[];
  validateResponse(
    target: ResponseTarget,
    status: number,
    contentType: string | null | undefined,
    body: unknown,
    options?: ResponseValidationOptions,
  ): Violation[];
}

export interface ContractOptions {
  /** The prefix concrete paths may carry (default `/api/v1`; the admin contract uses `/_emulator/v1`). */
  prefix?: string;
}

const cache = new Map<string, Contract>();

/**
 * Loads a contract: by default the bundled `@htcemu/openapi` document. Loading the same file again returns
 * the same instance, so compiled schemas are shared within a process.
 */
export function loadContract(source: string | URL | OpenApiDocument = defaultContractPath, options: ContractOptions = {}): Contract {
  if (typeof source !== "string" && !(source instanceof URL)) return createContract(source, options);
  const path = source instanceof URL ? fileURLToPath(source) : source;
  const key = `${options.prefix ?? API_PREFIX} ${path}`;
  let contract = cache.get(key);
  if (!contract) {
    contract = createContract(JSON.parse(readFileSync(path, "utf8")) as OpenApiDocument, options);
    cache.set(key, contract);
  }
  return contract;
}

export function createContract(document: OpenApiDocument, options: ContractOptions = {}): Contract {
  if (typeof document.openapi !== "string" || !document.openapi.startsWith("3.1")) {
    throw new Error(`expected an OpenAPI 3.1 document, got openapi: ${String(document.openapi)}`);
  }
  const operations = extractOperations(document);
  const byId = new Map(operations.map((op) => [op.operationId, op]));
  const matcher = new PathMatcher(operations, options);
  let validator: ContractValidator | undefined;
  const contract: Contract = {
    document,
    operations,
    operationIds: operations.map((op) => op.operationId),
    getOperation(operationId) {
      const op = byId.get(operationId);
      if (!op) throw new Error(`unknown operationId: ${operationId}`);
      return op;
    },
    findOperation: (operationId) => byId.get(operationId),
    match(method, path) {
      const found = matcher.match(method, path);
      return found && { operation: found.route, params: found.params };
    },
    methodsAt: (path) => matcher.methods(path),
    covers: (path) => matcher.isUnderPrefix(path) || matcher.methods(path).length > 0,
    // Compiling is deferred: a suite that only matches paths never pays for ajv.
    validateRequest: (request) => {
      validator ??= new ContractValidator(contract);
      return validator.validateRequest(request);
    },
    validateResponse: (target, status, contentType, body, options) => {
      validator ??= new ContractValidator(contract);
      return validator.validateResponse(target, status, contentType, body, options);
    },
  };
  return contract;
}
