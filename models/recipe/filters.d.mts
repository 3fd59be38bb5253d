export declare const MAX_FILE_BYTES: number;
export declare const MAX_LINE: number;
export declare function languageOf(path: string): 'typescript' | 'typescript-declarations' | 'javascript' | 'python' | null;
export declare function isMinified(text: string): boolean;
export declare function isGenerated(text: string): boolean;
export declare function layoutFreeHash(text: string): string;
export declare function isBuildOutput(path: string): boolean;
