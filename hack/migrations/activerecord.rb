# Drives ActiveRecord migrations without a Rails app, for the real-tool tests (Debian's ruby-activerecord + ruby-pg).
# Usage: DATABASE_URL=postgres://... ruby activerecord.rb DIR migrate|status|up VERSION|down VERSION
# `status` prints what `rails db:migrate:status` prints, one migration a line: "up|down VERSION NAME".
require "active_record"

dir, command, version = ARGV
ActiveRecord::Base.establish_connection(ENV.fetch("DATABASE_URL"))
ActiveRecord::Migration.verbose = false
context = ActiveRecord::MigrationContext.new([dir], ActiveRecord::SchemaMigration)
case command
when "migrate" then context.migrate
when "up" then context.run(:up, Integer(version))
when "down" then context.run(:down, Integer(version))
when "status"
  context.migrations_status.each { |status, v, name| puts "#{status} #{v} #{name}" }
  puts "current #{context.current_version}"
else abort "unknown command #{command}"
end
