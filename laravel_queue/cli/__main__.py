from laravel_queue.cli import main

main()
