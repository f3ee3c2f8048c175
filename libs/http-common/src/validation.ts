import { applyDecorators, ArgumentMetadata, Injectable, ParseUUIDPipe, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';
import { BadRequest, FieldError, unstorableReason, ValidationFailed } from '@app/domain';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message: message.replace(/^property /, '') }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Whitelisting validation: unknown fields and wrong types are 400s with one entry per bad field.
 * No implicit type conversion, so "10" is not a number.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailed(flatten(errors)),
  });

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      value ??= {}; // no body at all: the DTO's own rules decide whether that is enough
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BadRequest('invalid-body', 'The request body must be a JSON object.');
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const bad = findRefusedInput(value);
      if (bad) throw new ValidationFailed([bad]);
    }
    return this.inner.transform(value, metadata);
  }
}

/**
 * The first thing in raw input that must be refused before validation, with its path:
 * - text PostgreSQL cannot store (NUL, a lone surrogate), in a key or a value: it would reach a
 *   column only to fail there, as a 500;
 * - a key named like a member of every object (`toString`, `constructor`, `__proto__`): the
 *   transformer drops those before the whitelist looks, so they would pass as known fields.
 * Iterative, with an explicit stack: it runs on raw input before anything else looks at it.
 */
export function findRefusedInput(value: unknown): { field: string; message: string } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const why = unstorableReason(v);
      if (why) return { field: path || 'body', message: why };
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        const field = path ? `${path}.${k}` : k;
        const why = unstorableReason(k);
        if (why) return { field: path || 'body', message: `field names ${why}` };
        if (!Array.isArray(v) && (k === '__proto__' || k in Object.prototype)) return { field, message: `${k} should not exist` };
        stack.push([child, field]);
      }
    }
  }
  return undefined;
}

/**
 * A path id: not a UUID is a 400, not a lookup; a UUID in capitals is the same id in its one
 * written form, so whatever hashes, keys or compares it (partitions, KV keys, lists) sees what
 * the database gives back.
 */
@Injectable()
class CanonicalUuidPipe implements PipeTransform<string, Promise<string>> {
  private readonly inner = new ParseUUIDPipe({
    exceptionFactory: () => new ValidationFailed([{ field: 'id', message: 'must be a UUID' }], 'The id in the path must be a UUID.'),
  });

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await this.inner.transform(value, metadata)).toLowerCase();
  }
}

export const UuidParam = new CanonicalUuidPipe();

/** The same for a UUID field of a body or query: validated, and given in its one written form. */
export const CanonicalUuid = () =>
  applyDecorators(
    IsUUID(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value)),
  );
