import { ArgumentMetadata, Injectable, ParseUUIDPipe, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { BadRequest, FieldError, ValidationFailed } from '@app/domain';

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
      const nul = findNul(value);
      if (nul !== undefined) throw new ValidationFailed([{ field: nul, message: 'must not contain NUL characters' }]);
    }
    return this.inner.transform(value, metadata);
  }
}

/**
 * The path of the first string (key or value) holding U+0000, which no text column can store.
 * Iterative, with an explicit stack: it runs on raw input before anything else looks at it.
 */
function findNul(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || 'body';
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        if (k.includes('\u0000')) return path || 'body';
        stack.push([child, path ? `${path}.${k}` : k]);
      }
    }
  }
  return undefined;
}

/** A path id that is not a UUID is a 400, not a lookup. */
export const UuidParam = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationFailed([{ field: 'id', message: 'must be a UUID' }], 'The id in the path must be a UUID.'),
});
