import { ValidateIf, ValidationOptions, registerDecorator } from 'class-validator';

/**
 * Optional but never null: unlike @IsOptional, an explicit null is validated (and so refused by the
 * type checks), because clearing a required field is an error, not a no-op.
 */
export const OptionalNotNull = () => ValidateIf((_o, v) => v !== undefined);

/** An absolute https:// URL without credentials or fragment. */
export function IsHttpsUrl(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHttpsUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'must be an absolute https:// URL without credentials', ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          try {
            const u = new URL(value);
            return u.protocol === 'https:' && !!u.hostname && !u.username && !u.password && !u.hash;
          } catch {
            return false;
          }
        },
      },
    });
}
