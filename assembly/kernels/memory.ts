/** First byte of linear memory not used by static data or the stack; the TypeScript heap starts above it. */
export function heap_base(): usize {
  return __heap_base;
}
