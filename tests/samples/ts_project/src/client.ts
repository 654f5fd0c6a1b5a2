// A small HTTP-client-like class in the style of ky: #private members, getters, overloads.
export type Options = { retries: number; prefix: string };

export default class Client {
  #retries: number;
  #prefix: string;
  static $instances = 0;

  constructor(options: Options) {
    this.#retries = options.retries;
    this.#prefix = options.prefix;
    Client.$instances += 1;
  }

  get retries(): number {
    return this.#retries;
  }

  set retries(value: number) {
    this.#retries = Math.max(0, value);
  }

  request(path: string): string;
  request(path: string, times: number): string[];
  request(path: string, times?: number): string | string[] {
    if (times === undefined) {
      return this.#send(path);
    }
    return Array.from({ length: times }, () => this.#send(path));
  }

  #send(path: string): string {
    return this.#retry(() => `${this.#prefix}/${path}`);
  }

  #retry(attempt: () => string): string {
    let last = "";
    for (let i = 0; i <= this.#retries; i += 1) {
      last = attempt();
    }
    return last;
  }
}
