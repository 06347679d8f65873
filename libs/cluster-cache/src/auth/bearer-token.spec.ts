import { bearerTokenOf } from './bearer-token';

describe('bearerTokenOf', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['bEaReR abc.def-_', 'abc.def-_'],
  ])('reads %j as %j', (header, token) => {
    expect(bearerTokenOf(header)).toBe(token);
  });

  it.each([[undefined], [''], ['Bearer'], ['Bearer '], ['Basic abc'], ['Bearerabc'], ['Bearer  abc'], ['Bearer a b'], ['Xearer abc'], ['Bearer\tabc']])('finds nothing in %j', (header) => {
    expect(bearerTokenOf(header)).toBeUndefined();
  });
});
