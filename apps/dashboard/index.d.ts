/** The folder of the dashboard's built files (index.html and assets/). */
export declare const distDir: string;
